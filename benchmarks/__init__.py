"""Speed, memory and accuracy benchmarks; `make bench` runs them all."""
