"""Fitting a scenario to a call log: opening hours and days, arrivals per interval and call type, handle,
wrap and patience times per call type, agents present per interval. `fit.fit_log` puts the parts together
into a runnable scenario with diagnostics that say what each part rests on."""
