"""Connection model, orientation, road-warrior instantiation, matching. Arrives with issue 3."""
