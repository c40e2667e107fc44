"""Continuous mode, in one place: its settings (`config`), the pacing, tracking, smoothing
and averaging of live frames (`mode.ContinuousMode`), the tracker (`tracking`, IoU paired by
`lap`) and each tracked face as a person (`people`). The worker asks it for frames and hands
it their results. Nothing is imported here, so `edge.config` can load the settings alone."""
