# nic forgets every mapping and rewrites into 21000-21999 from now on
python -m labs.nat remap 21000-21999
iptables-legacy -t nat -S POSTROUTING
