// The shape of config.yaml, validated with zod. Every key here is documented in
// config.example.yaml; defaults make an empty or missing file a working configuration.
import { z } from 'zod';
import { isValidZone } from '../model/time.js';

export const USER_ID = /^[\p{L}\p{N}_@+-][\p{L}\p{N}._@+-]{0,63}$/u;

const zone = z.string().refine(isValidZone, { message: 'not an IANA time zone (e.g. Europe/Berlin)' });

export const ConfigSchema = z
  .object({
    data_dir: z.string().min(1).optional(),
    default_user: z.string().regex(USER_ID, 'letters, digits and . _ @ + - only, at most 64').default('me'),
    users: z
      .record(z.string().regex(USER_ID, 'letters, digits and . _ @ + - only, at most 64'), z.object({ timezone: zone.optional() }).strict())
      .default({}),
    log_level: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
