"""Events pushed to browsers through the event gateway (spec/api.md §4.1), and their broker."""
