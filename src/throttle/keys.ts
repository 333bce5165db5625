import { createHash } from 'node:crypto'
import { isIPv6 } from 'node:net'

// What a throttle counts by. Usernames are compared as the login compares
// them (NFKC, without regard to case) and hashed, so that counters hold no
// username and have a bounded size. An IPv6 client holds a whole /64 as a
// rule, so its address counts by that prefix.

export function usernameKey (username: string): string {
  return createHash('sha256').update(username.normalize('NFKC').toLowerCase()).digest('base64url').slice(0, 22)
}

/** The address a client is counted by: IPv4 as it is, IPv6 by its /64 prefix. */
export function addressKey (ip: string): string {
  if (!isIPv6(ip)) return ip
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  if (mapped !== null) return mapped[1]!
  const [head = '', tail] = ip.split('::')
  const headGroups = head === '' ? [] : head.split(':')
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
  return `${groups.slice(0, 4).map(group => group.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`
}
