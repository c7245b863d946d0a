#!/bin/sh
# The same script for ip and for rawns: run it with IP=ip and with IP="python -m rawns"
# (tests/test_grammar_script.py does both) and the two outputs must be equal, byte for
# byte. It uses only the grammar of issue 15: routes and their selectors, route get,
# multipath, policy rules, -br/-o/-s/-d, link kinds, tuntap, netns pids, -batch.
#
#   sh tests/grammar_script.sh NS_A NS_B            (both made and removed by the caller)
#
# Standard error is not compared (each tool words its errors its own way): a command
# that fails prints its exit status instead. Nothing here sends traffic or reads a value
# that moves on its own: MAC addresses are given, IPv6 is off (no router solicitation),
# a bridge stays down (its timers stay at 0).
set -u
IP=${IP:-ip}
A=$1
B=$2

run() {
    echo "\$ $*"
    $IP "$@" 2>/dev/null
    status=$?
    [ $status -eq 0 ] || echo "[exit $status]"
}

for ns in "$A" "$B"; do
    ip netns exec "$ns" sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6;
                               echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6'
done

# --- links --------------------------------------------------------------------------------
run -n "$A" link add a0 address 02:00:00:00:00:a0 type veth peer name b0 netns "$B" address 02:00:00:00:00:b0
run -n "$A" link add a1 address 02:00:00:00:00:a1 type veth peer name a2 address 02:00:00:00:00:a2
run -n "$A" link add br0 address 02:00:00:00:00:f0 type bridge
run -n "$A" link add mv0 link a1 address 02:00:00:00:00:c0 type macvlan mode bridge
run -n "$A" link add mv1 link a1 address 02:00:00:00:00:c1 type macvlan mode private
run -n "$A" link add d0 type dummy
run -n "$A" link add link a1 name v5 type vlan id 5
run -n "$A" tuntap add tp0 mode tap
run -n "$A" tuntap add tn0 mode tun multi_queue user 1000 group 100
run -n "$A" link set tp0 address 02:00:00:00:00:e0
for dev in lo a0 a1 a2; do run -n "$A" link set "$dev" up; done
run -n "$B" link set b0 up
run -n "$B" link set lo up
sleep 0.5  # the veth carriers settle on their own

run -n "$A" addr add 10.1.0.1/24 dev a0
run -n "$A" addr add 10.1.0.7/24 dev a0
run -n "$A" addr add 10.2.0.1/24 brd + dev a1 label a1:x
run -n "$B" addr add 10.1.0.2/24 dev b0

run -n "$A" -br link
run -n "$A" -br addr
run -n "$A" -br -4 addr
run -n "$A" -o link show a1
run -n "$A" -o addr
run -n "$A" -d link show br0
run -n "$A" -d link show mv0
run -n "$A" -d link show tn0
run -n "$A" -d -j link show mv1
run -n "$A" -s link show tp0
run -n "$A" -s -s link show tp0
run -n "$A" tuntap show
run -n "$A" tuntap del tp0 mode tap
run -n "$A" tuntap

# --- routes -------------------------------------------------------------------------------
run -n "$A" route add 10.9.0.0/16 via 10.1.0.2 metric 5
run -n "$A" route add 10.8.0.0/16 via 10.1.0.2 mtu 1300 advmss 1200 src 10.1.0.1 proto static
run -n "$A" route add 10.8.1.0/24 via 10.1.0.2 mtu lock 1300
run -n "$A" route add 10.7.0.0/16 via 10.1.0.9 dev a0 onlink
run -n "$A" route add 10.6.0.0/16 nexthop via 10.1.0.2 dev a0 weight 1 nexthop via 10.2.0.2 dev a1 weight 3
run -n "$A" route add blackhole 10.5.0.0/16
run -n "$A" route add unreachable 10.4.0.0/16
run -n "$A" route add prohibit 10.3.0.0/16 metric 7
run -n "$A" route add local 10.200.0.0/16 dev a0
run -n "$A" route add default via 10.1.0.2
run -n "$A" route add 10.10.0.0/16 dev a0 scope link proto 99 table 100
run -n "$A" route add 10.10.0.0/16 dev a0

run -n "$A" route
run -n "$A" route show default
run -n "$A" route show root 10.8.0.0/15
run -n "$A" route show match 10.8.1.5
run -n "$A" route show exact 10.8.0.0/16
run -n "$A" route show dev a0
run -n "$A" route show proto kernel
run -n "$A" route show scope link
run -n "$A" route show type blackhole
run -n "$A" route show via 10.1.0.2
run -n "$A" route show table 100
run -n "$A" route show table all
run -n "$A" -j route show table all
run -n "$A" -d route
run -n "$A" -o route
run -n "$A" route get 10.9.1.1
run -n "$A" route get 10.9.1.1 from 10.1.0.1 mark 7
run -n "$A" route get 10.1.0.1
run -n "$A" route get 10.6.1.1 oif a1
run -n "$A" -j route get 10.9.1.1
run -n "$A" route get 10.3.1.1
run -n "$A" route flush dev a1
run -n "$A" route flush type blackhole
run -n "$A" route flush table 100
run -n "$A" route flush
run -n "$A" route show table all

# --- policy routing -------------------------------------------------------------------------
run -n "$A" rule add from 10.1.0.0/24 table 100 priority 100
run -n "$A" rule add to 10.9.0.0/16 lookup 200 priority 200
run -n "$A" rule add iif a0 table main priority 300
run -n "$A" rule add fwmark 0x10/0xff table 100 priority 400
run -n "$A" rule add not from 10.2.0.0/24 goto 32766 priority 500
run -n "$A" rule add priority 600 blackhole
run -n "$A" -6 rule add from fd00::/64 table 100 priority 100
run -n "$A" rule add from 10.1.0.0/24 table 100 priority 100
run -n "$A" rule
run -n "$A" -6 rule
run -n "$A" -j rule show table 100
run -n "$A" rule del priority 200
run -n "$A" rule flush table 100
run -n "$A" rule
run -n "$A" route get 10.9.1.1 from 10.2.0.1 iif a1

# --- namespaces -----------------------------------------------------------------------------
run netns pids "$B"

# --- a batch: any line may name its namespace here, but ip's lines cannot; so -n on the
# command line, the same for both --------------------------------------------------------------
printf 'link add q0 address 02:00:00:00:00:d0 type veth peer name q1 address 02:00:00:00:00:d1\naddr add 10.50.0.1/24 dev q0\nlink set q0 up\nlink show q0\nlink add q0 type veth peer name q1\nlink set q1 up\n' > "${TMPDIR:-/tmp}/grammar-$B.batch"
run -n "$B" -batch "${TMPDIR:-/tmp}/grammar-$B.batch"
run -n "$B" -force -batch "${TMPDIR:-/tmp}/grammar-$B.batch"
rm -f "${TMPDIR:-/tmp}/grammar-$B.batch"
run -n "$B" -br addr
