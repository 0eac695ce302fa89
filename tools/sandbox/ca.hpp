// Where the `ca` module puts its files, for the modules that use them (nginx, later postgres).
#pragma once

#include <filesystem>

namespace deploycheck::sandbox {

struct CaFiles {
  std::filesystem::path dir;                // DATA/ca
  std::filesystem::path root_cert;          // ca.pem: the trust anchor clients use
  std::filesystem::path root_key;           // ca.key
  std::filesystem::path intermediate_cert;  // intermediate.pem
  std::filesystem::path intermediate_key;   // intermediate.key: signs server certificates
  std::filesystem::path server_cert;        // server.pem: the leaf alone
  std::filesystem::path server_key;         // server.key
  std::filesystem::path server_chain;       // server-chain.pem: leaf + intermediate, as served
};

CaFiles ca_files(const std::filesystem::path& data_dir);

}  // namespace deploycheck::sandbox
