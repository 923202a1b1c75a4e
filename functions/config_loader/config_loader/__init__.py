"""The config loader: an uploaded pipeline config applied whole to DynamoDB, or rejected whole."""
