"""KernelOps interface and back ends (xfrm, nostack). Arrives with issues 3 and 5."""
