"""Result publishers: MQTT (with its persistent spool and Home Assistant discovery)."""
