# profile.sh - sourced by the VM test scripts: which build of vreqplay and of
# the VA driver they put in the VM.
#   VREQ_VM_PROFILE=debug    (the default: what `cargo build` makes)
#   VREQ_VM_PROFILE=release  (tests/vm/tier.sh's choice: the build users run
#                            and the packages ship; under TCG a debug vreqplay
#                            spends about 2 s of every run on process start
#                            alone, relocating its 115 MB image: the VP8
#                            oracle's 8 clips took 43 s debug, 29 s release)
# Sets VM_CARGO_PROFILE (cargo's --profile: dev or release), VM_PLAYER
# (target/<dir>/vreqplay, relative to the repository) and VM_VA_PROFILE (the
# VA driver's profile directory: debug or release, the same as the player's).
case ${VREQ_VM_PROFILE:=debug} in
  debug) VM_CARGO_PROFILE=dev VM_VA_PROFILE=debug ;;
  release) VM_CARGO_PROFILE=release VM_VA_PROFILE=release ;;
  *) echo "VREQ_VM_PROFILE is debug or release, not $VREQ_VM_PROFILE" >&2; exit 2 ;;
esac
export VREQ_VM_PROFILE
VM_PLAYER=target/$VREQ_VM_PROFILE/vreqplay
