ping -n -q -c 2 -i 0.2 -W 2 -I 198.18.1.254 198.18.2.254
python -m labs.verify udp-echo 198.18.1.254 198.18.2.254 7 hello-through-esp
ip -s xfrm state | grep -A1 'lifetime current'
python -m labs.verify xfrm
