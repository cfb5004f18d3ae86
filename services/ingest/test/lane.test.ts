import {
  belowThresholdIncident,
  closedIncident,
  notificationBytes,
  openIncident,
  serviceConfig,
  servicesOf,
  testNotification,
} from '@burnback/testkit/fixtures';
import { notificationLane } from '../src/handler.js';

/** Which notifications ingest handles first (the fast lane's) and which may wait their turn (the bulk lane's). */
describe('the lane of a raw notification, as ingest reads it before handling it', () => {
  const services = servicesOf(serviceConfig('api-backend'));
  const at = new Date('2025-11-26T10:05:00.000Z');
  const laneOf = (notification: unknown) => notificationLane(notificationBytes(notification), services, at);

  it('an open incident over its bar on a configured service is the fast lane', () => {
    expect(laneOf(openIncident())).toBe('fast');
  });

  it('below its bar, or closed, it is the bulk lane', () => {
    expect(laneOf(belowThresholdIncident())).toBe('bulk');
    expect(laneOf(closedIncident())).toBe('bulk');
  });

  it('one for no configured service, a test notification, or unreadable bytes can wait too, and it never throws', () => {
    expect(laneOf(openIncident({ projectId: 'someone-else' }))).toBe('bulk');
    expect(laneOf(testNotification())).toBe('bulk');
    expect(notificationLane(Buffer.from('{"incident": '), services, at)).toBe('bulk');
    expect(notificationLane(Buffer.from([0xff, 0xfe]), services, at)).toBe('bulk');
  });
});
