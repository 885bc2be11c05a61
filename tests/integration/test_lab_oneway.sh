#!/usr/bin/env bash
# The lab's one-way partition: the owner of a volume hears the coordinator but its
# answers are lost (lab.sh partition NODE --oneway). Its lease renewals keep arriving
# until the coordinator, which sees no acknowledgement, stops renewing; then the owner
# fences itself and the volume fails over - the rest is test_lab_partition.sh's
# scenario and checks (never mounted on two nodes, every acknowledged write there,
# rejoin without touching anything, e2fsck clean).
export LAB_SHORT=oneway LAB_CUT=--oneway
exec bash "$(dirname "$0")/test_lab_partition.sh"
