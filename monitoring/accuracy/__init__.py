"""Model quality with delayed labels: join ground truth to logged predictions, judge drops."""
