"""The DynamoDB vault and its companion tables (wrapped keys, audit)."""
