python -m labs.verify xfrm | sed -E 's/packets=[0-9]+ bytes=[0-9]+/COUNTERS/'
