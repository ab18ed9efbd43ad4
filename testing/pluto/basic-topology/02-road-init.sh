ip -4 route
ping -n -c 1 -W 2 198.51.100.23
