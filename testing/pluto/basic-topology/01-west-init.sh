ip -brief -4 addr show dev eth1
ip -4 route
ping -n -c 1 -W 2 198.51.100.23
ping -n -c 1 -W 2 2001:db8:1:2::23
# no tunnel yet: the client subnets do not reach each other in the clear
ping -n -q -c 1 -W 1 -I 198.18.1.254 198.18.2.254
