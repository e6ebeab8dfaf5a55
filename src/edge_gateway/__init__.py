"""The edge gateway agent: scheduler, disk buffer and MQTT uplink for city hotspot and sensor data."""
