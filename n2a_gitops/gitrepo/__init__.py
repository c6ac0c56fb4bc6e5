"""Git: commits through a temporary index, the clone's lock, push replies, replay and recovery."""
