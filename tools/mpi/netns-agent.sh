#!/bin/sh
# Open MPI's "remote shell" for the test hosts of tools/test-mpi.sh: instead of ssh'ing to a
# host it runs the command inside that host's network namespace (ip netns), so that the
# two ranks talk over TCP across a veth pair as two machines would.
#   netns-agent.sh HOST COMMAND...     (HOST: an address of tools/test-mpi.sh's namespaces)
host=$1
shift
case "$host" in
  10.211.0.1) ns=lsskd-host-a ;;
  10.211.0.2) ns=lsskd-host-b ;;
  *) echo "netns-agent.sh: unknown test host $host" >&2; exit 1 ;;
esac
exec ip netns exec "$ns" /bin/sh -c "$*"
