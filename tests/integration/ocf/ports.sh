# ports.sh - sourced by the test_ocf_*.sh tests after lib.sh: lib.sh's
# free_port picks ports below the ephemeral range, free in every state.
ocf_free_port() {
    free_port
}

# ocf_start_agent NAME [args]: start_agent on such a port.
ocf_start_agent() {
    PORT_OVERRIDE=${PORT_OVERRIDE:-$(ocf_free_port)} start_agent "$@"
}
