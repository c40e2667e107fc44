"""Everything MQTT, both ways: the one connection (`connection`), the capture commands it
receives (`commands`), the results it publishes (`publisher`, with its `spool` and the
`snapshot`), and Home Assistant `discovery`. The MQTT trigger and the app use it; nothing
else talks to paho."""
