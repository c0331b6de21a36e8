"""Thin views of monitoring's regulator review: the alert queue and pages (alerts), the market view and a
tender's monitoring tab (market); `common` holds access, labels and form parsing."""
