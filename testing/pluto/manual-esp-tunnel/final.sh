ip xfrm state flush
ip xfrm policy flush
ip xfrm state
