"""Pictures and pages of negotiations: the timeline chart and the offline report."""
