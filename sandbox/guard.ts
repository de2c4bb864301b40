import type Docker from 'dockerode';

/** Label on a sandbox's guard (the container that owns its network namespace). */
export const GUARD_LABEL = 'context-vault.guard';
/** Label on a sandbox naming its guard's container id, removed after it. */
export const GUARD_ID_LABEL = 'context-vault.guard-id';

/**
 * The sandbox's firewall, loaded into its network namespace before Ollama starts: the app may
 * open connections to the model's port and nothing else; the sandbox may only answer them.
 * New connections out (the app's HTTP port, any host port through the bridge's gateway, another
 * sandbox, the internet) are dropped, whichever address they aim at. Loopback stays open:
 * Ollama talks to its llama-server runner on 127.0.0.1.
 */
export function guardRulesV4(port: number): string {
  return [
    '*filter',
    ':INPUT DROP [0:0]',
    ':FORWARD DROP [0:0]',
    ':OUTPUT DROP [0:0]',
    '-A INPUT -i lo -j ACCEPT',
    `-A INPUT -p tcp --dport ${port} -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT`,
    '-A OUTPUT -o lo -j ACCEPT',
    `-A OUTPUT -p tcp --sport ${port} -m conntrack --ctstate ESTABLISHED -j ACCEPT`,
    'COMMIT',
    '',
  ].join('\n');
}

/** IPv6: loopback only (link-local addresses exist on every interface of an IPv6 kernel). */
export const GUARD_RULES_V6 = [
  '*filter',
  ':INPUT DROP [0:0]',
  ':FORWARD DROP [0:0]',
  ':OUTPUT DROP [0:0]',
  '-A INPUT -i lo -j ACCEPT',
  '-A OUTPUT -o lo -j ACCEPT',
  'COMMIT',
  '',
].join('\n');

// The rules arrive in the environment and are piped in: nothing is spliced into the script.
// A kernel booted without IPv6 has no /proc/net/if_inet6 and nothing for ip6tables to guard.
const FIREWALL_SCRIPT =
  'printf "%s" "$GUARD_RULES_V4" | iptables-restore && if [ -e /proc/net/if_inet6 ]; then printf "%s" "$GUARD_RULES_V6" | ip6tables-restore; fi';

/** What both guard containers need. */
export interface GuardOptions {
  /** `SANDBOX_GUARD_IMAGE`: any image with `sh`, `sleep` and iptables (the app's own image). */
  image: string;
  /** The sandbox's own internal network. */
  network: string;
  /** Labels shared with the sandbox (owner, instance, network name). */
  labels: Record<string, string>;
  /** The port the app reaches the model on. */
  port: number;
}

const locked = {
  ReadonlyRootfs: true,
  SecurityOpt: ['no-new-privileges'],
  Memory: 32 * 1024 * 1024,
  MemorySwap: 32 * 1024 * 1024,
  PidsLimit: 16,
  RestartPolicy: { Name: 'no' },
};

/**
 * The guard: a process that only sleeps, so that the network namespace (its address on the
 * sandbox network) exists before and apart from Ollama. No capabilities, nobody.
 */
export function buildGuardSpec(opts: GuardOptions, name: string): Docker.ContainerCreateOptions {
  return {
    name,
    Image: opts.image,
    User: '65534:65534',
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: ['exec sleep 2147483647'],
    Labels: { ...opts.labels, [GUARD_LABEL]: '1' },
    ExposedPorts: { [`${opts.port}/tcp`]: {} },
    HostConfig: { ...locked, LogConfig: { Type: 'none', Config: {} }, NetworkMode: opts.network, CapDrop: ['ALL'] },
  };
}

/**
 * The one-shot container that loads the rules into the guard's namespace: the only one with
 * NET_ADMIN, and it exits before Ollama starts. Ollama joins the namespace with every capability
 * dropped and no-new-privileges, so it cannot change the rules.
 */
export function buildFirewallSpec(opts: GuardOptions, name: string, guardId: string): Docker.ContainerCreateOptions {
  return {
    name,
    Image: opts.image,
    User: '0:0',
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: [FIREWALL_SCRIPT],
    Env: [`GUARD_RULES_V4=${guardRulesV4(opts.port)}`, `GUARD_RULES_V6=${GUARD_RULES_V6}`],
    Labels: { ...opts.labels, [GUARD_LABEL]: 'firewall' },
    HostConfig: {
      ...locked,
      // Its log (iptables' complaints, never user data) is kept for the start error.
      // iptables takes its lock under /run.
      Tmpfs: { '/run': 'rw,nosuid,nodev,noexec,size=1m' },
      NetworkMode: `container:${guardId}`,
      CapDrop: ['ALL'],
      CapAdd: ['NET_ADMIN'],
    },
  };
}
