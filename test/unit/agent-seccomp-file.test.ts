// --seccomp_config_dir with --seccomp_profile_name (agent/driver/oci/seccomp.ts,
// seccomp-file.ts): profiles in Docker's format read from real files, turned
// into the OCI linux.seccomp runc reads; every malformed profile refused at
// start with the file and the field named.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSeccomp, seccompProfile } from '../../agent/driver/oci/seccomp.js';

const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-seccomp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const profile = (name: string, body: unknown) => writeFileSync(join(dir, name), typeof body === 'string' ? body : JSON.stringify(body));

describe('the default seccomp profile', () => {
  it("lists the architectures of the host's kernel only, as Docker's archMap does, and every one on a machine it does not know", () => {
    expect(defaultSeccomp('x86_64').architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    expect(defaultSeccomp('aarch64').architectures).toEqual(['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    expect(defaultSeccomp('riscv64').architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    // The rules themselves do not depend on the machine.
    expect(defaultSeccomp('x86_64').syscalls).toEqual(defaultSeccomp('riscv64').syscalls);
  });
});

describe('seccomp profiles from --seccomp_config_dir', () => {
  it("reads Docker's format: archMap, names, errnoRet, args, and settles includes/excludes against the capabilities and this host", () => {
    profile('strict.json', {
      defaultAction: 'SCMP_ACT_ERRNO',
      archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }],
      syscalls: [
        { names: ['read', 'write', 'exit_group'], action: 'SCMP_ACT_ALLOW' },
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
        { names: ['chown'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_CHOWN'] } },
        { names: ['bind'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_NET_BIND_SERVICE'] } },
        { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, excludes: { caps: ['CAP_NET_BIND_SERVICE'] } },
        { name: 'open', action: 'SCMP_ACT_LOG' },
      ],
    });
    expect(seccompProfile('strict', dir, ['NET_BIND_SERVICE'])).toEqual({
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [
        { names: ['read', 'write', 'exit_group'], action: 'SCMP_ACT_ALLOW' },
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
        { names: ['bind'], action: 'SCMP_ACT_ALLOW' },
        { names: ['open'], action: 'SCMP_ACT_LOG' },
      ],
    });
    // The file's full name works too.
    expect(seccompProfile('strict.json', dir, ['NET_BIND_SERVICE'])).toEqual(seccompProfile('strict', dir, ['NET_BIND_SERVICE']));
  });

  it("keeps 'default' (built in) and 'unconfined' when the directory has no file of that name; a default.json there wins", () => {
    const own = join(dir, 'own');
    mkdirSync(own);
    expect(seccompProfile('default', own)).toEqual(defaultSeccomp());
    expect(seccompProfile('unconfined', own)).toBeNull();
    writeFileSync(join(own, 'default.json'), JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['ptrace'], action: 'SCMP_ACT_KILL' }] }));
    expect(seccompProfile('default', own)).toEqual({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['ptrace'], action: 'SCMP_ACT_KILL' }] });
  });

  it('refuses a missing directory or file, a name leaving the directory, and every malformed field, naming the file and the field', () => {
    expect(() => seccompProfile('default', join(dir, 'nope'))).toThrow(`--seccomp_config_dir ${join(dir, 'nope')} is not a directory`);
    expect(() => seccompProfile('absent', dir)).toThrow(`--seccomp_profile_name 'absent': no file ${join(dir, 'absent')} (nor absent.json) in --seccomp_config_dir`);
    expect(() => seccompProfile('../etc/passwd', dir)).toThrow("--seccomp_profile_name '../etc/passwd' must name a file inside --seccomp_config_dir");
    expect(() => seccompProfile('absent')).toThrow("--seccomp_profile_name: unknown profile 'absent'");
    const cases: [unknown, string][] = [
      ['{not json', 'not JSON ('],
      [[], 'the profile must be a JSON object'],
      [{ defaultAction: 'SCMP_ACT_MAYBE' }, 'defaultAction must be one of SCMP_ACT_KILL'],
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: {} }, 'syscalls must be a list'],
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [], action: 'SCMP_ACT_ERRNO' }, { names: 'mount', action: 'SCMP_ACT_ERRNO' }] }, 'syscalls[1].names must be a list of names'],
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mount'], action: 'deny' }] }, 'syscalls[0].action must be one of'],
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mount'], action: 'SCMP_ACT_ERRNO', errnoRet: -1 }] }, 'syscalls[0].errnoRet must be a non-negative integer'],
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['clone'], action: 'SCMP_ACT_ERRNO', args: [{ index: 7, value: 0, op: 'SCMP_CMP_EQ' }] }] }, 'syscalls[0].args[0].index must be 0 to 5'],
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['clone'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0, op: 'EQ' }] }] }, 'syscalls[0].args[0].op must be one of'],
      [{ defaultAction: 'SCMP_ACT_ALLOW', architectures: 'x86' }, 'architectures must be a list of names'],
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chown'], action: 'SCMP_ACT_ALLOW', includes: { caps: 'CAP_CHOWN' } }] }, 'syscalls[0].includes.caps must be a list of names'],
    ];
    for (const [i, [body, message]] of cases.entries()) {
      profile(`bad${i}.json`, body);
      expect(() => seccompProfile(`bad${i}`, dir), JSON.stringify(body)).toThrow(`seccomp profile ${join(dir, `bad${i}.json`)}: `);
      expect(() => seccompProfile(`bad${i}`, dir), JSON.stringify(body)).toThrow(message);
    }
  });
});
