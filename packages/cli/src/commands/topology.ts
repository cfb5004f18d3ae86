import { parseArgs } from 'node:util';
import { PubSub } from '@google-cloud/pubsub';
import { Subscriptions, Topics } from '@burnback/contracts';
import { ensureTopology } from '@burnback/emulators';
import { DEFAULT_PROJECT } from '../local-stack.js';

/** Creates Burnback's topics and subscriptions on the Pub/Sub emulator (docker-compose's setup step uses this). */
export async function runTopology(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write('burnback topology: create every Burnback topic and subscription on PUBSUB_EMULATOR_HOST (idempotent)\n');
    return 0;
  }
  if (!process.env.PUBSUB_EMULATOR_HOST) {
    process.stderr.write(
      'PUBSUB_EMULATOR_HOST is not set: topology only creates resources on the emulator (Terraform does it in Google Cloud)\n',
    );
    return 2;
  }
  process.env.METADATA_SERVER_DETECTION = 'none';
  const projectId = process.env.GOOGLE_CLOUD_PROJECT || DEFAULT_PROJECT;
  const pubsub = new PubSub({ projectId });
  try {
    await ensureTopology(pubsub);
    process.stdout.write(
      `created ${Object.keys(Topics).length} topics and ${Object.keys(Subscriptions).length} subscriptions in ${projectId} on ${process.env.PUBSUB_EMULATOR_HOST}\n`,
    );
    return 0;
  } finally {
    await pubsub.close();
  }
}
