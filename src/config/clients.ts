// The OAuth clients, as the Google and Outlook provider folders read them from the configuration.
export { googleClient } from '../../providers/google/index.js';
export { outlookClient } from '../../providers/outlook/index.js';
