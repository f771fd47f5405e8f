/** The mesos-ts version, reported in MasterInfo and on agent registration. */
export const VERSION = '0.1.0';
