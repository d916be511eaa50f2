"""`make bench`: the collection side by side with the floor and with ansible.windows, against rds-sim."""
