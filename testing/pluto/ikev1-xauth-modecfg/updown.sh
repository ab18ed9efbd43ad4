# west's updown: as libreswan's _updown does with a Mode Config address, put the internal
# address pushed by east on this host while the IPsec SA is up (here on lo: a source address
# for traffic into the tunnel), and keep a route to the peer's client subnet while routed.
echo "updown $PLUTO_VERB: my client $PLUTO_MY_CLIENT, peer client $PLUTO_PEER_CLIENT"
case "$PLUTO_VERB" in
route-client)
    ip route replace "$PLUTO_PEER_CLIENT" via "$PLUTO_NEXT_HOP" ;;
unroute-client)
    ip route del "$PLUTO_PEER_CLIENT" via "$PLUTO_NEXT_HOP" 2>/dev/null || : ;;
up-client)
    [ "$PLUTO_MY_CLIENT_NET" = "$PLUTO_ME" ] || ip addr add "$PLUTO_MY_CLIENT_NET/32" dev lo ;;
down-client)
    [ "$PLUTO_MY_CLIENT_NET" = "$PLUTO_ME" ] || ip addr del "$PLUTO_MY_CLIENT_NET/32" dev lo ;;
esac
