"""The remote opening hall (不见面开标) per lot: rules (pure), services, selectors, events, the record.

docs/opening-hall.md describes the phases, the messages and the monitoring hook.
"""
