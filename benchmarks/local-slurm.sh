#!/usr/bin/env bash
# Starts a real one-node Slurm cluster (munged + slurmctld + slurmd, partition "debug") on this
# Debian 12 machine, for the Slurm executor's test of `evolm study run --executor slurm`.
# Usage: sudo bash benchmarks/local-slurm.sh
# Needs root (to install slurm-wlm + munge and start the daemons), unless a Slurm cluster already
# answers. Works without systemd or cgroups (containers). Idempotent: when the node already answers
# it does nothing and takes well under a second. Prints "local slurm: node NAME idle, partition debug" and exits 0;
# on failure prints the daemons' log tails to stderr and exits 1 (2: not root and nothing to use).
set -euo pipefail

conf=/etc/slurm/slurm.conf
marker="# written by evolm benchmarks/local-slurm.sh"
logdir=/var/log/slurm
node=$(hostname -s)
wait_s=${LOCAL_SLURM_WAIT_S:-30}

# The node's state as sinfo reports it (idle, mixed, down*, drained, ...), empty when nobody answers.
node_state() { timeout 5 sinfo -h -N -n "$node" -o %T 2>/dev/null | head -n 1 || true; }
ready() {
  case "$(node_state)" in
    idle|mixed|allocated|completing) return 0 ;;  # up; busy with earlier jobs still counts
    *) return 1 ;;
  esac
}
say_ready() { echo "local slurm: node $node $(node_state), partition debug"; }
# Whether the daemon in PIDFILE lives. Not kill -0: PID 1 of a container may never reap, and a
# zombie passes kill -0. slurmctld keeps reporting a dead slurmd's node idle for SlurmdTimeout.
alive() {
  local pid st
  pid=$(cat "$1" 2>/dev/null) || return 1
  st=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
ours() { [ -f "$conf" ] && grep -qF "$marker" "$conf"; }
up() {  # daemons first: sinfo takes seconds to give up on a dead slurmctld
  if ours; then alive /run/slurmctld.pid && alive /run/slurmd.pid || return 1; fi
  ready
}

# Already running (ours or anyone's): nothing to do.
if [ -f "$conf" ] && command -v sinfo >/dev/null && up; then say_ready; exit 0; fi

if [ "$(id -u)" -ne 0 ]; then
  echo "local-slurm: no Slurm cluster answers here and starting one needs root (run it with sudo)." >&2
  exit 2
fi

if ! command -v sbatch >/dev/null || [ ! -x /usr/sbin/slurmctld ] || [ ! -x /usr/sbin/slurmd ] \
   || [ ! -x /usr/sbin/munged ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends slurm-wlm munge >/dev/null
fi

# --- munge: every Slurm message is signed with this key --------------------------------------
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  if command -v mungekey >/dev/null; then mungekey --create --force --keyfile=/etc/munge/munge.key
  else dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none; fi
fi
chown munge:munge /etc/munge /etc/munge/munge.key
chmod 0700 /etc/munge
chmod 0400 /etc/munge/munge.key
# No systemd: create what its unit would (runtime dir for the socket, owned by the munge user).
mkdir -p /run/munge /var/lib/munge /var/log/munge
chown munge:munge /run/munge /var/lib/munge /var/log/munge
chmod 0755 /run/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  rm -f /run/munge/munge.socket.2 /run/munge/munged.pid   # stale after a container restart
  # --force: munged refuses to start over a leftover socket or with lax directory permissions.
  runuser -u munge -- /usr/sbin/munged --force
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n | unmunge >/dev/null || { echo "local-slurm: munged did not start" >&2; exit 1; }
fi

# --- slurm.conf --------------------------------------------------------------------------------
if [ -f "$conf" ] && ! grep -qF "$marker" "$conf"; then
  echo "local-slurm: $conf was not written by this script and its cluster does not answer; not touching it." >&2
  exit 1
fi
# Topology as slurmd sees it; memory a bit below the total, or slurmd drains the node ("Low RealMemory").
hw=$(/usr/sbin/slurmd -C 2>/dev/null | head -n 1 || true)
cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$hw"); cpus=${cpus:-$(nproc)}
topo=$(grep -o 'Boards=[0-9]* SocketsPerBoard=[0-9]* CoresPerSocket=[0-9]* ThreadsPerCore=[0-9]*' <<<"$hw" || true)
mem_mb=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 ))
real_mb=$(( mem_mb * 95 / 100 ))
[ "$real_mb" -gt 1024 ] || real_mb=1024
def_mb=$(( real_mb / cpus ))

mkdir -p /etc/slurm "$logdir" /var/spool/slurmctld /var/spool/slurmd
new=$(cat <<EOF
$marker
# One node, partition debug, no accounting database, no cgroups (containers have none to delegate).
ClusterName=evolm-local
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$logdir/slurmctld.log
SlurmdLogFile=$logdir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MpiDefault=none
# No mail server here; the default /bin/mail is absent and slurmctld logs an error.
MailProg=/bin/true
# Track job processes by /proc, not cgroups; no CPU binding; no per-job usage sampling.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# Finished jobs' final states, one line each, since there is no slurmdbd for sacct.
JobCompType=jobcomp/filetxt
JobCompLoc=$logdir/jobcomp.log
# Finished jobs stay visible to scontrol show job / squeue -t all for an hour (default 300 s).
MinJobAge=3600
# A job whose afterok dependency failed is cancelled instead of pending forever.
DependencyParameters=kill_invalid_depend
SchedulerType=sched/backfill
# Start pending and newly eligible jobs within a second (defaults: 60 s and 30 s).
SchedulerParameters=sched_interval=1,bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
DefMemPerCPU=$def_mb
# A restarted slurmd returns the node to service by itself; the configured sizes win over detection.
ReturnToService=2
SlurmdParameters=config_overrides
SlurmdTimeout=60
InactiveLimit=0
KillWait=10
NodeName=$node NodeAddr=127.0.0.1 NodeHostname=$node CPUs=$cpus ${topo} RealMemory=$real_mb State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
)
changed=0
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$new" ]; then
  printf '%s\n' "$new" > "$conf"
  changed=1
fi
# No cgroup.conf: with no cgroup plugin in use, 22.05 does not look for one.

# --- daemons -----------------------------------------------------------------------------------
stop() {  # stop PIDFILE: a daemon this script started earlier (configuration changed)
  alive "$1" || return 0
  local pid; pid=$(cat "$1"); kill "$pid"
  for _ in $(seq 100); do alive "$1" || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
if [ "$changed" = 1 ]; then stop /run/slurmd.pid; stop /run/slurmctld.pid; fi
alive /run/slurmctld.pid || /usr/sbin/slurmctld
alive /run/slurmd.pid || /usr/sbin/slurmd

fail() {
  echo "local-slurm: $1" >&2
  for f in "$logdir/slurmctld.log" "$logdir/slurmd.log"; do
    echo "--- tail $f" >&2; tail -n 20 "$f" >&2 2>/dev/null || true
  done
  exit 1
}
deadline=$(( SECONDS + wait_s ))
while ! up; do
  [ "$SECONDS" -lt "$deadline" ] || fail "node $node not idle after ${wait_s}s (state: '$(node_state)')"
  case "$(node_state)" in
    down*|drain*|fail*) timeout 5 scontrol update nodename="$node" state=resume 2>/dev/null || true ;;
  esac
  sleep 1
done
say_ready
