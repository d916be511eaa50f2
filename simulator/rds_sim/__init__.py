"""rds-sim: a simulated fleet of Windows Remote Desktop Services hosts behind a WS-Management endpoint."""
