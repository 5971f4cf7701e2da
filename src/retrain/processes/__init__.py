"""Child processes tied to ours: started in their own process group under a watchdog
(`watchdog`), waited for on a port, and stopped as a whole group (`procs`). Used by the local
backend's runs and by the local stack's emulators and function servers."""
