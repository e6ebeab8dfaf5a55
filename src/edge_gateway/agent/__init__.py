"""The gateway agent: scheduler, disk buffer, MQTT uplink, status page and the collectors with their
config."""
