// Apache Mesos 1.11's flag names (docs/configuration/master.md, agent.md and
// master-and-agent.md in apache/mesos, tag 1.11.0). A Mesos flag a command
// does not declare is refused by name as one mesos-ts does not implement, so
// a Mesos command line is never half obeyed; any other name is an unknown flag.
// The authentication flags mesos-ts implements (master --authenticate_agents,
// --authenticate_frameworks, --authenticate_http_frameworks, --credentials;
// agent --credential) are declared by the commands and left out here.
import { isIPv4 } from 'node:net';
import { InvalidArgument } from './errors.js';

const MASTER_ONLY = `
  acls agent_ping_timeout agent_removal_rate_limit agent_reregister_timeout allocation_interval allocator authenticate
  authenticate_slaves authentication_v0_timeout authenticators authorizers cluster fair_sharing_excluded_resource_names filter_gpu_resources framework_sorter
  http_framework_authenticators log_auto_initialize master_contender master_detector max_agent_ping_timeouts
  max_completed_frameworks max_completed_tasks_per_framework max_executors_per_agent max_executors_per_slave
  max_operator_event_stream_subscribers max_slave_ping_timeouts max_unreachable_tasks_per_framework min_allocatable_resources
  offer_constraints_re2_max_mem offer_constraints_re2_max_program_size offer_timeout publish_per_framework_metrics quorum
  rate_limits recovery_agent_removal_limit recovery_slave_removal_limit registry registry_fetch_timeout registry_gc_interval
  registry_max_agent_age registry_max_agent_count registry_store_timeout require_agent_domain role_sorter roles root_submissions
  slave_ping_timeout slave_removal_rate_limit slave_reregister_timeout webui_dir weights whitelist work_dir zk
`;

const AGENT_ONLY = `
  acls agent_features agent_subsystems allowed_devices appc_simple_discovery_uri_prefix appc_store_dir attributes
  authenticate_http_executors authenticatee authentication_backoff_factor authentication_timeout_max authentication_timeout_min
  authorizer bounding_capabilities cgroups_destroy_timeout cgroups_hierarchy cgroups_net_cls_primary_handle
  cgroups_net_cls_secondary_handles cgroups_root check_agent_port_range_only container_disk_watch_interval container_logger
  container_ports_isolated_range container_ports_watch_interval containerizers csi_plugin_config_dir
  default_container_dns default_container_info default_container_shm_size default_role disallow_sharing_agent_ipc_namespace
  disallow_sharing_agent_pid_namespace disk_profile_adaptor disk_watch_interval docker docker_config docker_ignore_runtime
  docker_kill_orphans docker_mesos_image docker_registry docker_remove_delay docker_socket docker_stop_timeout docker_store_dir
  docker_volume_checkpoint_dir docker_volume_chown domain_socket_location egress_flow_classifier_parent
  egress_rate_limit_per_container egress_unique_flow_per_container enforce_container_disk_quota enforce_container_ports
  ephemeral_ports_per_container eth0_name executor_environment_variables executor_registration_timeout
  executor_reregistration_retry_interval executor_reregistration_timeout executor_shutdown_grace_period fetcher_cache_dir
  fetcher_cache_size fetcher_stall_timeout frameworks_home gc_delay gc_disk_headroom gc_non_executor_container_sandboxes hadoop_home
  host_path_volume_force_creation http_command_executor http_credentials http_executor_domain_sockets http_heartbeat_interval
  image_gc_config image_providers image_provisioner_backend ip6 ip6_discovery_command isolation jwt_secret_key launcher launcher_dir
  lo_name master master_detector max_completed_executors_per_framework network_cni_config_dir network_cni_metrics
  network_cni_plugins_dir network_cni_root_dir_persist network_enable_snmp_statistics network_enable_socket_statistics_details
  network_enable_socket_statistics_summary nvidia_gpu_devices oversubscribed_resources_interval perf_duration perf_events
  perf_interval qos_controller qos_correction_interval_min reconfiguration_policy recover recovery_timeout
  registration_backoff_factor resource_estimator resource_provider_config_dir resources revocable_cpu_low_priority runtime_dir
  sandbox_directory seccomp_config_dir seccomp_profile_name secret_resolver slave_subsystems strict 
  systemd_enable_support systemd_runtime_directory volume_gid_range work_dir xfs_project_range
`;

const MASTER_AND_AGENT = `
  advertise_ip advertise_port authenticate_http_readonly authenticate_http_readwrite domain external_log_file firewall_rules help
  hooks hostname hostname_lookup http_authenticators initialize_driver_logging ip ip_discovery_command log_dir logbufsecs
  logging_level modules modules_dir port quiet version zk_session_timeout
`;

const names = (text: string) => text.split(/\s+/).filter((n) => n.length > 0);

/** Every flag a Mesos 1.11 master takes. */
export const MESOS_MASTER_FLAGS: ReadonlySet<string> = new Set([...names(MASTER_ONLY), ...names(MASTER_AND_AGENT)]);

/** Every flag a Mesos 1.11 agent takes. */
export const MESOS_AGENT_FLAGS: ReadonlySet<string> = new Set([...names(AGENT_ONLY), ...names(MASTER_AND_AGENT)]);

/** Names Mesos still takes for flags it renamed (slave -> agent, authenticate -> authenticate_frameworks); mesos-ts takes only the new name. */
export const MESOS_RENAMED_FLAGS: Readonly<Record<string, string>> = {
  slave_ping_timeout: 'agent_ping_timeout',
  max_slave_ping_timeouts: 'max_agent_ping_timeouts',
  slave_reregister_timeout: 'agent_reregister_timeout',
  slave_removal_rate_limit: 'agent_removal_rate_limit',
  recovery_slave_removal_limit: 'recovery_agent_removal_limit',
  authenticate_slaves: 'authenticate_agents',
  authenticate: 'authenticate_frameworks',
  max_executors_per_slave: 'max_executors_per_agent',
  slave_subsystems: 'agent_subsystems',
};

/** Why a Mesos flag a command does not declare is refused. */
export function notImplemented(name: string, component: 'master' | 'agent'): string {
  const renamed = MESOS_RENAMED_FLAGS[name];
  const hint = renamed ? `; mesos-ts takes its new name, --${renamed}, where it implements it` : '';
  return `--${name} is an Apache Mesos ${component} flag that mesos-ts does not implement${hint} (see --help for the flags it takes)`;
}

/** --advertise_ip and --advertise_port as Mesos takes them: an IPv4 address, a port 1-65535. */
export function checkAdvertised(flags: { readonly advertise_ip?: string | undefined; readonly advertise_port?: number | undefined; readonly grpc_ip?: string | undefined }): void {
  if (flags.advertise_ip !== undefined && !isIPv4(flags.advertise_ip)) {
    throw new InvalidArgument(`--advertise_ip: '${flags.advertise_ip}' is not an IPv4 address`);
  }
  if (flags.grpc_ip !== undefined && !isIPv4(flags.grpc_ip)) {
    throw new InvalidArgument(`--grpc_ip: '${flags.grpc_ip}' is not an IPv4 address`);
  }
  const port = flags.advertise_port;
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
    throw new InvalidArgument(`--advertise_port: '${port}' is not a port (1-65535)`);
  }
}
