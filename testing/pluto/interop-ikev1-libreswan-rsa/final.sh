# nothing may be left in either kernel
ip xfrm state
ip xfrm policy
