"""Keys: where the vault key comes from, sealing values with it, KMS envelope keys, pseudonyms."""
