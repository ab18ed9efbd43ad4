"""asyncio loop, sockets, timers and the whack server: the only I/O. Arrives with issue 3."""
