"""The collector: push endpoints, batching into Kafka records, and the scrape-target ring."""
