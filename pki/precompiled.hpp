#pragma once
// The pki layer's precompiled header (see common/precompiled.hpp): Botan's X.509 headers besides.
#include "common/precompiled.hpp"

#include <botan/ber_dec.h>
#include <botan/der_enc.h>
#include <botan/pk_keys.h>
#include <botan/pkix_types.h>
#include <botan/x509_ca.h>
#include <botan/x509_crl.h>
#include <botan/x509_ext.h>
#include <botan/x509cert.h>
#include <botan/x509path.h>
