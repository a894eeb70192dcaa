// WebAuthn in the browser for the enrolment wizard and the login page: the server's options
// (web-safe base64 without padding) become navigator.credentials.create()/get() arguments,
// and the authenticator's answer goes back under the names the REST API reads.

export function fromBase64url(text) {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

export function toBase64url(buffer) {
  let binary = "";
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function credentials(list) {
  return (list || []).map((c) => ({...c, id: fromBase64url(c.id)}));
}

function supported() {
  if (!window.PublicKeyCredential || !navigator.credentials) {
    throw new Error("This browser cannot use security keys or passkeys (WebAuthn).");
  }
}

// Step 2 of a webauthn token (privacyIDEA's webAuthnRegisterRequest): clientdata and regdata.
export async function registerSecurityKey(request) {
  supported();
  const credential = await navigator.credentials.create({publicKey: {
    challenge: fromBase64url(request.nonce),
    rp: request.relyingParty,
    user: {id: new TextEncoder().encode(request.serialNumber), name: request.name || request.serialNumber,
           displayName: request.displayName || request.name || request.serialNumber},
    pubKeyCredParams: request.pubKeyCredAlgorithms,
    authenticatorSelection: request.authenticatorSelection,
    attestation: request.attestation,
    timeout: request.timeout,
    excludeCredentials: credentials(request.excludeCredentials),
  }});
  return {clientdata: toBase64url(credential.response.clientDataJSON),
          regdata: toBase64url(credential.response.attestationObject)};
}

// Step 2 of a passkey (detail.passkey_registration, WebAuthn's JSON options).
export async function registerPasskey(options) {
  supported();
  const credential = await navigator.credentials.create({publicKey: {
    ...options,
    challenge: fromBase64url(options.challenge),
    user: {...options.user, id: fromBase64url(options.user.id)},
    excludeCredentials: credentials(options.excludeCredentials),
  }});
  return {attestationObject: toBase64url(credential.response.attestationObject),
          clientDataJSON: toBase64url(credential.response.clientDataJSON),
          credential_id: toBase64url(credential.rawId),
          authenticatorAttachment: credential.authenticatorAttachment || ""};
}

async function assert(publicKey) {
  supported();
  const credential = await navigator.credentials.get({publicKey});
  const response = credential.response;
  return {credentialid: toBase64url(credential.rawId), clientdata: toBase64url(response.clientDataJSON),
          authenticatordata: toBase64url(response.authenticatorData), signaturedata: toBase64url(response.signature),
          userHandle: response.userHandle ? toBase64url(response.userHandle) : ""};
}

// The answer to a webauthn challenge (attributes.webAuthnSignRequest), /validate/check's names.
export async function signChallenge(request) {
  const {userHandle, ...answer} = await assert({
    challenge: fromBase64url(request.challenge), rpId: request.rpId, timeout: request.timeout,
    userVerification: request.userVerification, allowCredentials: credentials(request.allowCredentials)});
  return answer;
}

// The answer to a usernameless passkey challenge (/validate/initialize's detail.passkey).
export async function signPasskey(passkey) {
  const {userHandle, ...answer} = await assert({
    challenge: fromBase64url(passkey.challenge), rpId: passkey.rpId,
    userVerification: passkey.user_verification || "preferred"});
  return {...answer, userHandle};
}
