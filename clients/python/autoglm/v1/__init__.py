"""Generated code: run scripts/gen_protos.sh, do not edit."""
