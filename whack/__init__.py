"""whack: the control client for pluto."""
