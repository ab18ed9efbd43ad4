iptables-legacy -t nat -S POSTROUTING
conntrack -L -p icmp 2>/dev/null | sed -e 's/id=[0-9]*/id=ID/g' -e 's/ [0-9]\+ src/ TTL src/' | sort
