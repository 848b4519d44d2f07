"""The three roles of MIMI Portability and what they stand on: codec, messages, crypto."""
