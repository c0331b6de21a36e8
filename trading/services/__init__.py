"""Every state change of the trading app: one function per use case (HackSoft style)."""
