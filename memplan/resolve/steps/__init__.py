"""The boot steps, one module each, in the order :mod:`memplan.kernel.boot_order` gives per
architecture and version: RAM and ``mem=`` (:mod:`.ram`), the reserved-memory scan
(:mod:`.reserved`), early allocations (:mod:`.early`), NUMA areas (:mod:`.numa_cma`), hugetlb
(:mod:`.hugetlb`), the global CMA area (:mod:`.global_cma`), crashkernel (:mod:`.crashkernel`) and
zone activation (:mod:`.zones`). Each step is a function of :class:`~memplan.resolve.run.Boot`."""
