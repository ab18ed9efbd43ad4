"""Lab topologies in network namespaces, the real-kernel runner and the lab CLI."""
